"""A bundle with an enhancer for the enhancer tests: a copy of a bundle plus a random-weight
spectral mask (around 0.5, so it clearly removes energy). Needs torch (training's exporter)."""

from __future__ import annotations

from pathlib import Path


def enhanced_copy(bundle, out: Path):
    """Write ``bundle`` (a ModelBundle) + a random enhancer to ``out``; returns the loaded bundle."""
    import torch

    from ganshot.engine.bundle import load_bundle
    from ganshot.training.enhance_export import export_enhancer_net
    from ganshot.training.enhance_model import EnhancerSpec, MaskEnhancer

    torch.manual_seed(0)
    spec = EnhancerSpec(sample_rate=bundle.sample_rate, num_samples=bundle.num_samples, channels=8, dilations=(1, 2))
    net = MaskEnhancer(spec)
    with torch.no_grad():
        net.out.weight.normal_(0.0, 0.3)
        net.out.bias.zero_()
    return load_bundle(export_enhancer_net(net, bundle.path, out))
