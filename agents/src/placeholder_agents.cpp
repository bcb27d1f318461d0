namespace parallax { int agents_placeholder() { return 0; } }
