"""One module per camera `type`; each is imported only when a camera of that type opens."""
