namespace parallax { int worldmodel_placeholder() { return 0; } }
