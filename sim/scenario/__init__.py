"""What a drill file may say: the model, its sections, units, and the loader."""
