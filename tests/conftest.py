import pytest
import torch

import mfglearn


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    mfglearn.set_threads(1)
    torch.manual_seed(0)
