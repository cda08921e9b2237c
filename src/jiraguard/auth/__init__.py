"""The request path's authentication steps, one module each (see DESIGN.md)."""
