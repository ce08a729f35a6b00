"""District heatmaps for officials: incrementally maintained aggregates, the predefined cuts, and
the one disclosure-control function every published view goes through (``disclosure.protect``)."""
