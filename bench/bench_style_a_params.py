"""Size and cost of the Style-A generator networks (DualStyleGAN layout, StyleGAN2 discriminator).

    python bench/bench_style_a_params.py [--cpu-fps] [--runs N]

Parameter counts per module at 1024 and multiply-adds per frame are taken on the meta device
(no memory, no weights needed); MACs come from ``torch.utils.flop_counter`` (FLOPs / 2), batch
1, W+ codes given (the mapping networks are negligible). ``--cpu-fps`` also times the
generator at 256x256 on the CPU (random weights, fixed noise, 2 threads, batch 1 and 4).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from s2t.style_a.neural.dualstylegan import DualStyleGAN, DualStyleGANConfig
from s2t.style_a.neural.stylegan2 import Discriminator, DiscriminatorConfig


def count(modules: list[nn.Module] | nn.Module) -> int:
    modules = modules if isinstance(modules, list) else [modules]
    return sum(p.numel() for m in modules for p in m.parameters())


def parameter_table(model: DualStyleGAN, disc: Discriminator) -> list[tuple[str, int]]:
    g = model.generator
    synthesis = [g.input, g.conv1, g.to_rgb1, g.convs, g.to_rgbs]
    modres = [b for k, b in enumerate(model.res) if k <= model.res_index]
    colour = [b for k, b in enumerate(model.res) if k > model.res_index]
    return [
        ("StyleGAN2 mapping `generator.style` (8 x EqualLinear 512)", count(g.style)),
        ("StyleGAN2 synthesis (`generator.input/conv1/convs/to_rgb*`)", count(synthesis)),
        ("extrinsic structure mapping T_s `style`", count(model.style)),
        (f"ModRes blocks `res.0..{model.res_index}` (4..32 px)", count(modres)),
        (f"colour transforms T_c `res.{model.res_index + 1}..{model.n_latent - 1}`", count(colour)),
        ("**DualStyleGAN total** (`g_ema` of generator.pt)", count(model)),
        ("StyleGAN2 discriminator (config-f, 1024)", count(disc)),
    ]


def macs(fn) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        fn()
    return counter.get_total_flops() // 2


def mac_table(model: DualStyleGAN, disc: Discriminator, device: str | torch.device) -> list[tuple[str, float]]:
    w = torch.randn(1, model.n_latent, model.style_dim, device=device)
    ex = torch.randn(1, model.n_latent, model.style_dim, device=device)
    kw = dict(input_is_latent=True)
    feat, rgb = model.features_at([w], ex, resolution=64, **kw)
    rows = [
        ("full synthesis (forward, extrinsic path on)", macs(lambda: model([w], ex, randomize_noise=False, **kw))),
        ("StyleGAN2 path only (use_res=False)", macs(lambda: model([w], None, use_res=False, randomize_noise=False,
                                                                  **kw))),
        ("features_at(resolution=64)", macs(lambda: model.features_at([w], ex, resolution=64, **kw))),
        ("synthesize_from(64x64 feature map)", macs(lambda: model.synthesize_from(feat, rgb, [w], ex, resolution=64,
                                                                                  **kw))),
        ("discriminator, one 1024 image", macs(lambda: disc(torch.randn(1, 3, 1024, 1024, device=device)))),
    ]
    return [(name, m / 1e9) for name, m in rows]


def cpu_fps(size: int, batches: tuple[int, ...], runs: int) -> list[tuple[str, float, float]]:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = DualStyleGAN(DualStyleGANConfig(size=size)).eval()
    rows = []
    for b in batches:
        w = torch.randn(b, model.n_latent, model.style_dim)
        ex = torch.randn(b, model.n_latent, model.style_dim)
        with torch.no_grad():
            feat, rgb = model.features_at([w], ex, input_is_latent=True)
            cases = {
                "full forward": lambda: model([w], ex, input_is_latent=True, randomize_noise=False),
                "synthesize_from(64)": lambda: model.synthesize_from(feat, rgb, [w], ex, input_is_latent=True),
            }
            for name, fn in cases.items():
                fn()  # warm-up
                times = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t0)
                median = statistics.median(times)
                rows.append((f"{name}, batch {b}", median * 1000, b / median))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-fps", action="store_true", help="also time the 256x256 generator on the CPU")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per CPU case (median reported)")
    args = parser.parse_args()

    with torch.device("meta"):
        model = DualStyleGAN(DualStyleGANConfig()).eval()
        disc = Discriminator(DiscriminatorConfig()).eval()
        print("| module (1024, channel_multiplier 2) | parameters |\n|---|---|")
        for name, n in parameter_table(model, disc):
            print(f"| {name} | {n:,} |")
        buffers = sum(b.numel() for b in model.buffers())
        print(f"\nDualStyleGAN buffers (fixed noise + blur kernels): {buffers:,}; "
              f"state-dict entries: {len(model.state_dict())}\n")
        print("| multiply-adds per 1024x1024 frame | GMAC |\n|---|---|")
        for name, g in mac_table(model, disc, "meta"):
            print(f"| {name} | {g:.2f} |")
    if args.cpu_fps:
        with torch.device("meta"):
            small = DualStyleGAN(DualStyleGANConfig(size=256)).eval()
            w = torch.randn(1, small.n_latent, 512)
            full = macs(lambda: small([w], w, input_is_latent=True, randomize_noise=False)) / 1e9
        print(f"\nCPU, 256x256 generator ({full:.1f} GMAC per frame), torch.set_num_threads(2):\n")
        print("| case | ms per call (median) | frames/s |\n|---|---|---|")
        for name, ms, fps in cpu_fps(256, (1, 4), args.runs):
            print(f"| {name} | {ms:.0f} | {fps:.2f} |")


if __name__ == "__main__":
    main()
