"""One module per page of docs/reference/; each defines `FILE` and `render(index) -> str`."""
