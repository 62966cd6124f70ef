"""The `review` command line: thin commands that parse, call `srs`, and render."""
