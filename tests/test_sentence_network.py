"""The decomposed SRL sentence network against the naive convolution per (predicate, word)."""
import numpy
import pytest
from thinc.api import Linear, chain, with_array

from spacy_senna.layers import SennaSentence, SennaWindow

torch = pytest.importorskip("torch")


def build(n_in=4, n_out=6, distance_width=3, max_distance=4):
    word_conv = chain(SennaWindow(3), with_array(Linear(nO=n_out)))
    sentence = SennaSentence(n_out, distance_width=distance_width, max_distance=max_distance)
    return word_conv, sentence


def decomposed(word_conv, sentence, Xs, predicates):
    C, backprop_conv = word_conv.begin_update(Xs)
    Y, backprop_sentence = sentence.begin_update((C, predicates))

    def backprop(dY):
        dC, _ = backprop_sentence(dY)
        return backprop_conv(dC)

    return Y, backprop


def naive(params, X, predicate, max_distance):
    """Build every token's full input [x_i; dist(i - w); dist(i - p)] for each word w, convolve, max."""
    n, n_in = X.shape
    W = params["W_conv"].reshape(-1, 3, n_in)  # (n_out, slot, n_in)
    rows = []
    for w in range(n):
        dist_w = torch.clamp(torch.arange(n) - w, -max_distance, max_distance) + max_distance
        dist_p = torch.clamp(torch.arange(n) - predicate, -max_distance, max_distance) + max_distance
        h = []
        for i in range(n):
            total = params["b"].clone()
            for k, offset in enumerate((-1, 0, 1)):
                j = i + offset
                if 0 <= j < n:
                    total = total + W[:, k] @ X[j]
                    total = total + params["E_word"][dist_w[j]] @ params["W_word"][k]
                    total = total + params["E_pred"][dist_p[j]] @ params["W_pred"][k]
                else:
                    total = total + W[:, k] @ params["pad"]
            h.append(total)
        rows.append(torch.stack(h).max(dim=0).values)
    return torch.stack(rows)


@pytest.mark.parametrize("lengths,predicates", [([5, 1, 7], [[0, 3], [0], [6, 2, 4]]), ([9], [[]])])
def test_decomposition_matches_naive_values_and_gradients(lengths, predicates):
    rng = numpy.random.default_rng(0)
    word_conv, sentence = build()
    Xs = [rng.normal(size=(n, 4)).astype("float32") for n in lengths]
    preds = [numpy.array(p, dtype="int32") for p in predicates]
    word_conv.initialize(X=Xs)
    sentence.initialize(X=(word_conv.predict(Xs), preds))
    Y, backprop = decomposed(word_conv, sentence, Xs, preds)
    assert len(Y) == sum(len(p) for p in predicates)
    dY = [rng.normal(size=y.shape).astype("float32") for y in Y]
    dXs = backprop(dY)

    linear = word_conv.layers[1].layers[0]
    params = {
        "W_conv": linear.get_param("W"),
        "b": linear.get_param("b"),
        "pad": word_conv.layers[0].get_param("pad"),
        "E_word": sentence.get_param("E_word"),
        "W_word": sentence.get_param("W_word"),
        "E_pred": sentence.get_param("E_pred"),
        "W_pred": sentence.get_param("W_pred"),
    }
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    X_t = [torch.tensor(X, dtype=torch.float64, requires_grad=True) for X in Xs]
    loss = 0.0
    k = 0
    for X, sent_preds in zip(X_t, predicates):
        for p in sent_preds:
            out = naive(params, X, p, sentence.attrs["max_distance"])
            assert numpy.allclose(out.detach().numpy(), Y[k], atol=1e-4)
            loss = loss + (out * torch.tensor(dY[k], dtype=torch.float64)).sum()
            k += 1
    if k == 0:
        return
    loss.backward()
    for X, dX in zip(X_t, dXs):
        assert numpy.allclose(X.grad.numpy(), dX, atol=1e-4)
    grads = {
        "W_conv": linear.get_grad("W"),
        "b": linear.get_grad("b"),
        "pad": word_conv.layers[0].get_grad("pad"),
        "E_word": sentence.get_grad("E_word"),
        "W_word": sentence.get_grad("W_word"),
        "E_pred": sentence.get_grad("E_pred"),
        "W_pred": sentence.get_grad("W_pred"),
    }
    for name, grad in grads.items():
        assert numpy.allclose(params[name].grad.numpy(), grad, atol=1e-4), name


def test_inference_matches_training_path():
    rng = numpy.random.default_rng(1)
    word_conv, sentence = build()
    Xs = [rng.normal(size=(n, 4)).astype("float32") for n in (6, 3)]
    preds = [numpy.array([1, 4, 5], dtype="int32"), numpy.array([2], dtype="int32")]
    word_conv.initialize(X=Xs)
    C = word_conv.predict(Xs)
    sentence.initialize(X=(C, preds))
    trained, _ = sentence.begin_update((C, preds))
    predicted = sentence.predict((C, preds))
    assert len(trained) == len(predicted) == 4
    for a, b in zip(trained, predicted):
        assert numpy.allclose(a, b, atol=1e-5)
