"""ipywidgets views of runs and tasks, filled from the same Python API as the magics."""
