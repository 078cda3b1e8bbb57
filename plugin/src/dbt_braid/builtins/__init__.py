"""Built-in plugins: braid's own behaviour, registered through the same hooks as anyone's."""
