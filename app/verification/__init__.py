"""Verifying enterprises: an admin, or a district official for firms registered in their
district, confirms a firm is real. Only verified firms count in the heatmaps (design §9)."""
