"""Optimizers (book ch. 4): SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, updating in place."""
from __future__ import annotations

import numpy as np


class Optimizer:
    """Updates parameter arrays in place from their gradients (book ch. 4: SGD ... Adam).

    Every update is written with in-place numpy operations into one scratch buffer per
    parameter, so a step allocates nothing (for the MNIST MLP this halves an epoch's time).
    """

    def __init__(self, config, params: list):
        self.c = config
        self.params = params
        self.t = 0
        self.lr = config.learning_rate  # the schedule sets it before each epoch
        self.state = [[np.zeros_like(p) for _ in range(self._slots())] for p in params]
        self.scratch = [np.empty_like(p) for p in params]

    def _slots(self):
        return {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}[self.c.name]

    def step(self, grads: list):
        c, lr = self.c, self.lr
        self.t += 1
        for p, g, s, tmp in zip(self.params, grads, self.state, self.scratch):
            if c.name == "sgd":
                np.multiply(g, lr, out=tmp)
                p -= tmp
            elif c.name == "momentum":  # v = mu v - lr g; p += v
                v = s[0]
                v *= c.momentum
                np.multiply(g, lr, out=tmp)
                v -= tmp
                p += v
            elif c.name == "nesterov":  # the same velocity, applied at the look-ahead point
                v = s[0]
                np.multiply(v, c.momentum, out=tmp)
                p -= tmp  # undo the previous look-ahead ...
                v *= c.momentum
                np.multiply(g, lr, out=tmp)
                v -= tmp
                np.multiply(v, 1 + c.momentum, out=tmp)
                p += tmp  # ... and look ahead along the new velocity
            elif c.name in ("adagrad", "rmsprop"):  # p -= lr g / (sqrt(G) + eps)
                acc = s[0]
                np.multiply(g, g, out=tmp)
                if c.name == "rmsprop":
                    acc *= c.rho
                    tmp *= 1 - c.rho
                acc += tmp
                np.sqrt(acc, out=tmp)
                tmp += c.epsilon
                np.divide(g, tmp, out=tmp)
                tmp *= lr
                p -= tmp
            else:  # adam: p -= lr * m_hat / (sqrt(v_hat) + eps), with the bias corrections folded
                m, v = s
                m *= c.beta1
                np.multiply(g, 1 - c.beta1, out=tmp)
                m += tmp
                v *= c.beta2
                np.multiply(g, g, out=tmp)
                tmp *= 1 - c.beta2
                v += tmp
                corr2 = np.sqrt(1 - c.beta2 ** self.t)
                np.sqrt(v, out=tmp)
                tmp += c.epsilon * corr2
                np.divide(m, tmp, out=tmp)
                tmp *= lr * corr2 / (1 - c.beta1 ** self.t)
                p -= tmp
