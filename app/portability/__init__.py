"""Data portability (PIPL art. 45): a firm takes its own data elsewhere — a documented JSON of
its profile, people, assessments with answers and results, grants and consent records, and a
CSV of its assessments and answers that a spreadsheet opens correctly in Chinese."""
