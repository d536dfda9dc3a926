"""Figures: matplotlib with a CJK font, Chinese labels first."""
