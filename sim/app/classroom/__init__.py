"""Role play (沙盘推演) on the teaching page: a shared city, groups with roles, rounds.

- :mod:`sim.app.classroom.roles` — the roles (command centre, department lines, counties),
  their levers and budgets, from ``roles.toml``;
- :mod:`sim.app.classroom.session` — one class's shared city, the groups' decisions, the
  rounds, and the saved state that survives a server restart;
- :mod:`sim.app.classroom.page` — the Solara pages (join, group, teacher, projector, 复盘),
  served by ``govsim app --roleplay``.
"""
