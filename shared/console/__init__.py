"""The team's console: a page and the JSON endpoints it reads, every query run as the signed-in
person under the Data API's grants and row level security."""
