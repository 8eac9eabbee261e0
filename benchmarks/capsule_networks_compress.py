"""Why the shared compress stage is not wired into capsule_networks: what int8 does to a CapsNet.

    python benchmarks/capsule_networks_compress.py

Builds the pipeline's reduced CapsNet (random weights: the point is which operations
quantize, not accuracy) and tries the two post-training int8 routes of the compress stage:
dynamic int8 (Linear layers) and FX static int8 (x86). Prints what changes.
"""

from __future__ import annotations

import io
import warnings

import torch

from dl_roadmap.image.capsules import CapsNet


def state_bytes(module: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.tell()


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    model = CapsNet(conv1_channels=32, primary_types=8, decoder_hidden=(256, 512)).eval()
    images = torch.rand(64, 1, 28, 28)
    reference = model(images)

    dynamic = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    print(f"dynamic int8: max |change| of the capsule lengths {(dynamic(images) - reference).abs().max().item():.3g} "
          f"(only the decoder's Linear layers are quantized); state {state_bytes(model):,} -> "
          f"{state_bytes(dynamic):,} bytes")

    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    prepared = prepare_fx(model, get_default_qconfig_mapping("x86"), (images,))
    prepared(images)
    static = convert_fx(prepared)
    out = static(images)
    print(f"FX static int8: traced; outputs finite: {bool(torch.isfinite(out).all())}; "
          f"max |change| {(out - reference).abs().nan_to_num(float('inf')).max().item():.3g}; "
          f"quantized elementwise ops in squash/routing: {static.code.count('quantized.')}")


if __name__ == "__main__":
    main()
