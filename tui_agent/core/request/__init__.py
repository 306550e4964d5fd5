"""What a request itself says, read once (``reading``) with one definition of each pattern
(``patterns``): its quoted texts, dates, numbers and the words beside them, path-like words; whether
a value came from it; its phrasing as a template. Pure functions of the text: no model, no files."""
