"""The PDF report of a submitted assessment: view-model, charts, WeasyPrint rendering, API."""
