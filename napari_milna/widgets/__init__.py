"""Qt / magicgui docks: thin shells that gather inputs, call the core and show results."""
