"""Results: what a submission stored (scores, rung, reasons, roadmap, crosswalk, the subsidies
matched then), read back in one way for the API, the pages and the PDF, and the one SVG chart
module (``charts``) those draw it with."""
