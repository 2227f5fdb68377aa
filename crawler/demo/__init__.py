"""The bundled demo site and the small local HTTP server that serves it."""
