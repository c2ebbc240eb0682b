"""loom.nn modules (torch.nn names, parameter names, shapes and default initialisation)."""
from .module import Module, Parameter, Buffer  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict, ParameterList  # noqa: F401
from .linear import Identity, Linear, Bilinear, Flatten, Unflatten  # noqa: F401
from .activation import ReLU, GELU, SiLU, Sigmoid, Tanh, Softmax, LogSoftmax  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .sparse import Embedding  # noqa: F401
from .normalization import LayerNorm, BatchNorm1d, BatchNorm2d  # noqa: F401
from .conv import Conv1d, Conv2d  # noqa: F401
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d  # noqa: F401
from .rnn import LSTM, GRU, LSTMCell, GRUCell  # noqa: F401
from .attention import MultiheadAttention  # noqa: F401
from .transformer import TransformerEncoderLayer, TransformerEncoder  # noqa: F401
from .cpp import CppModule  # noqa: F401
from .loss import (L1Loss, MSELoss, SmoothL1Loss, HuberLoss, NLLLoss, CrossEntropyLoss, BCELoss,  # noqa: F401
                   BCEWithLogitsLoss, CosineEmbeddingLoss, KLDivLoss)

__all__ = [
    "Module", "Parameter", "Buffer", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "Identity", "Linear",
    "Bilinear", "Flatten", "Unflatten", "ReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Dropout",
    "Embedding", "LayerNorm", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d", "LSTM", "GRU", "LSTMCell", "GRUCell", "MultiheadAttention", "TransformerEncoderLayer",
    "TransformerEncoder", "CppModule", "L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "NLLLoss",
    "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "CosineEmbeddingLoss", "KLDivLoss",
]
