"""Readers for the official files of each benchmark and for generic CSV / COCO JSON."""
