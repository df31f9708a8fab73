"""Style-A: renders coefficient sequences into stylized frames (the neural renderer and the CPU one)."""
