"""Style-A's neural renderer: DualStyleGAN-compatible generator, pSp encoder, coefficient-driven
motion generator, content encoder and refinement network (the paper's art-style stage)."""
