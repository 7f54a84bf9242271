"""Torch: what a saved module needs to be rebuilt, and what is refused at save time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from driftline.exceptions import DependencyMissingError, ValidationError
from driftline.registry.flavors import TorchFlavor, TorchModel

from .conftest import build_case

torch = pytest.importorskip("torch", reason="torch is not installed")
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit:DeprecationWarning")


def test_a_state_dict_model_records_its_class_and_rebuilds_from_it() -> None:
    case = build_case("torch-state-dict-classifier")
    saved = case.flavor.save(case.model)
    assert saved.meta["format"] == "state_dict"
    assert saved.meta["class"] == "tests.registry_flavors.conftest:CreditNet"
    assert saved.meta["init_kwargs"] == {"n_features": 23, "hidden": 16}
    assert (saved.meta["output"], saved.meta["classes"]) == ("logits", [0, 1])
    loaded = case.flavor.load(saved.data, saved.meta)
    assert type(loaded.native).__name__ == "CreditNet" and not loaded.native.training


def test_torch_refuses_what_could_not_be_loaded_later() -> None:
    case = build_case("torch-state-dict-classifier")
    net, flavor = case.model.module, TorchFlavor()
    with pytest.raises(ValidationError, match="check init_kwargs"):
        flavor.save(TorchModel(net, init_kwargs={"n_features": 23}))  # hidden is missing
    with pytest.raises(ValidationError, match=r"does not fit .*size mismatch.*check init_kwargs"):
        flavor.save(TorchModel(net, init_kwargs={"n_features": 23, "hidden": 8}))
    with pytest.raises(ValidationError, match="needs classes"):
        flavor.save(TorchModel(torch.nn.Linear(3, 2), output="logits"))
    with pytest.raises(ValidationError, match="JSON-ready"):
        flavor.save(TorchModel(net, init_kwargs={"n_features": np.int64(23), "hidden": 16}))

    class Local(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    with pytest.raises(ValidationError, match="importable module"):
        flavor.save(Local())


def test_a_model_whose_class_is_gone_asks_for_its_package() -> None:
    case = build_case("torch-state-dict-classifier")
    saved = case.flavor.save(case.model)
    meta = {**saved.meta, "class": "gone_package.nets:CreditNet"}
    with pytest.raises(DependencyMissingError, match="install the package that defines it"):
        case.flavor.load(saved.data, meta)
    with pytest.raises(ValidationError, match=r"does not name a torch\.nn\.Module class"):
        case.flavor.load(saved.data, {**saved.meta, "class": "collections:OrderedDict"})


def test_a_bare_state_dict_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    case = build_case("torch-state-dict-classifier")
    path = tmp_path / "weights.pt"
    torch.save(case.model.module.state_dict(), path)
    with pytest.raises(ValidationError, match=r"bare state_dict .* TorchModel\(module"):
        case.flavor.from_file(path)


def test_num_threads_is_applied_at_load_only_when_asked() -> None:
    case = build_case("torch-torchscript-regressor")
    saved = case.flavor.save(case.model)
    before = torch.get_num_threads()
    try:
        TorchFlavor().load(saved.data, saved.meta)
        assert torch.get_num_threads() == before
        TorchFlavor(num_threads=1).load(saved.data, saved.meta)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
