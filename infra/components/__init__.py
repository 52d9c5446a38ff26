"""One construct per piece of the stack; each takes narrow keyword props, never the whole EnvConfig."""
