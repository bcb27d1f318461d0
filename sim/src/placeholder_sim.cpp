namespace parallax { int sim_placeholder() { return 0; } }
