# mlopt example model: class LSTMClassifier (Embedding + LSTM text classifier; input is token ids)
#   mlopt script examples/models/lstm_classifier.py --class LSTMClassifier -o lstm.pt
#   suggested --input tokens:batch=1x12:int64:0..100
#   init args: vocab_size=100, embed_dim=16, hidden=32, num_layers=1, num_classes=4, bidirectional=False
import torch
import torch.nn as nn


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size: int = 100, embed_dim: int = 16, hidden: int = 32, num_layers: int = 1,
                 num_classes: int = 4, bidirectional: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=num_layers, batch_first=True,
                            bidirectional=bidirectional)
        directions = 2 if bidirectional else 1
        self.fc = nn.Linear(hidden * directions, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embedding(tokens)
        out, _ = self.lstm(x)
        last = out[:, -1, :]
        return self.fc(last)
