"""Where and in what precision to train.

bf16 autocast only on GPUs with native bf16 (compute capability ≥ 8: Ampere, Ada, Hopper); older
GPUs (T4, V100) emulate bf16 slowly, so they get fp16 autocast with a GradScaler (fp16's narrow
range underflows small gradients without loss scaling). CPUs train in fp32. A run told it is on
a GPU VM (`require_gpu`) fails at once with the reason when CUDA is not usable, instead of
silently training on the CPU of a paid GPU machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import TrainerError


@dataclass(frozen=True)
class Device:
    torch_device: torch.device
    autocast_dtype: torch.dtype | None  # None: plain fp32
    pad_multiple: int

    @property
    def needs_scaler(self) -> bool:
        return bool(self.autocast_dtype == torch.float16)

    @property
    def describe(self) -> str:
        kind = torch.cuda.get_device_name(0) if self.torch_device.type == "cuda" else "cpu"
        mode = {torch.bfloat16: "bf16 autocast", torch.float16: "fp16 autocast + grad scaler", None: "fp32"}[self.autocast_dtype]
        return f"{kind} ({mode})"

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.torch_device.type, dtype=self.autocast_dtype or torch.float32, enabled=self.autocast_dtype is not None)

    def scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler(self.torch_device.type, enabled=self.needs_scaler)


def pick_device(precision: str, require_gpu: bool = False) -> Device:
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        return Device(torch.device("cuda"), gpu_autocast_dtype(precision, torch.cuda.get_device_capability(0)), 8)
    if require_gpu:
        raise TrainerError("failed_precondition", f"a GPU was requested (DROPTUNE_REQUIRE_GPU=true) but torch {torch.__version__} "
                           f"(CUDA {torch.version.cuda or 'none'}) sees no usable CUDA device: check that the VM's NVIDIA driver "
                           "supports this CUDA version and that the container was started with --gpus all")
    if precision == "bf16":
        raise TrainerError("invalid_argument", "params.precision is bf16 but no GPU is available (use auto or fp32)")
    return Device(torch.device("cpu"), None, 1)


def gpu_autocast_dtype(precision: str, capability: tuple[int, int]) -> torch.dtype | None:
    """fp32 when asked; bf16 on compute capability ≥ 8; else fp16 (with a scaler), which is also
    what `bf16` falls back to on an older GPU rather than emulating it."""
    if precision == "fp32":
        return None
    return torch.bfloat16 if capability[0] >= 8 else torch.float16
