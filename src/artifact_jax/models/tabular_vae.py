r"""The reference demo's beta-VAE over a discretised, label-encoded table, in Flax NNX.

Every feature is one integer code (``preprocessing.TablePreprocessor``: continuous
columns in 10 equal-width bins, categories by vocabulary). The model:

* encoder: per-feature embeddings of width 8, concatenated; blocks
  ``Linear -> LeakyReLU(0.1) -> BatchNorm(momentum 0.1, eps 1e-5) -> Dropout(0)`` of
  widths 512 and 256; linear heads for :math:`\mu` and :math:`\log\sigma^2` (latent 128);
* decoder: the same blocks of widths 256 and 512 from :math:`z`, then one linear head
  per feature (stored as one ``Linear`` to the sum of the cardinalities);
* loss, averaged over the real rows of the batch (padding rows are masked out of the
  loss and of BatchNorm's statistics):

  .. math:: \mathcal{L} = \frac{1}{|B|} \sum_{i \in B} \Big[ \sum_f \mathrm{CE}(\ell_{if}, c_{if})
            + \beta\, \tfrac12 \sum_j \big(\mu_{ij}^2 + \sigma_{ij}^2 - \log\sigma_{ij}^2 - 1\big) \Big],
            \quad \beta = 0.1;

* generation: :math:`z \sim \mathcal N(0, I)`, decode in eval mode, sample each feature's
  code from :math:`\mathrm{softmax}(\ell_f / T)`, then invert the preprocessing; every random
  number of it comes from one uniform draw (``_draws``).

``sample`` is jittable and returns an ``EncodedTable`` on the device; ``generate`` wraps
it in one cached ``jax.jit`` and converts to a DataFrame on the host at the end.

References:
  artifact-torch ``demos/table_comparison`` (``TabularVAESynthesizer``, ``beta_loss.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from artifact_jax.models.preprocessing import TablePreprocessor

_EVAL = {"deterministic": True, "use_running_average": True}
_NEG = -1e9  # logit of a padding class (never sampled, zero probability)


class Block(nnx.Module):
    """``Linear -> LeakyReLU -> BatchNorm -> Dropout`` (the reference's ``LinBnDrop``)."""

    def __init__(self, d_in: int, d_out: int, *, negative_slope: float, dropout: float, rngs: nnx.Rngs):
        self.linear = nnx.Linear(d_in, d_out, rngs=rngs)
        self.norm = nnx.BatchNorm(d_out, momentum=0.9, epsilon=1e-5, rngs=rngs)  # torch momentum 0.1
        self.dropout = nnx.Dropout(dropout, rngs=rngs) if dropout > 0 else None
        self.negative_slope = negative_slope

    def __call__(self, x: jax.Array, mask: jax.Array | None) -> jax.Array:
        x = jax.nn.leaky_relu(self.linear(x), self.negative_slope)
        x = self.norm(x, mask=None if mask is None else mask[:, None])
        return x if self.dropout is None else self.dropout(x)


class TabularVAE(nnx.Module):
    """beta-VAE table synthesizer (``training.protocols.TableSynthesizer``).

    Args:
      preprocessor: a fitted ``TablePreprocessor`` (kept as a static attribute).
      embed_dim: embedding width per feature.
      hidden: encoder widths (the decoder mirrors them).
      latent_dim: size of :math:`z`.
      beta: weight of the KL term.
      dropout: dropout rate of the blocks.
      negative_slope: of the LeakyReLU.
      rngs: initialisation and the ``noise`` stream of the reparameterisation.

    Example:
      >>> import pandas as pd
      >>> df = pd.DataFrame({"age": [20, 30, 40, 50], "sex": ["M", "F", "F", "M"]})
      >>> vae = TabularVAE.from_frame(df, hidden=(8, 4), latent_dim=2, rngs=nnx.Rngs(0))
      >>> float(vae({"codes": vae.preprocessor.encode(df)})["loss"]) > 0
      True
    """

    def __init__(
        self,
        preprocessor: TablePreprocessor,
        *,
        embed_dim: int = 8,
        hidden: Sequence[int] = (512, 256),
        latent_dim: int = 128,
        beta: float = 0.1,
        dropout: float = 0.0,
        negative_slope: float = 0.1,
        rngs: nnx.Rngs,
    ):
        cards = preprocessor.cardinalities
        self.preprocessor, self.beta = preprocessor, beta
        self.offsets = tuple(int(o) for o in np.cumsum((0,) + cards[:-1]))
        self.cardinalities = cards
        block = functools.partial(Block, negative_slope=negative_slope, dropout=dropout, rngs=rngs)
        self.embedding = nnx.Embed(sum(cards), embed_dim, rngs=rngs)
        widths = (len(cards) * embed_dim, *hidden)
        self.encoder = nnx.List([block(a, b) for a, b in zip(widths[:-1], widths[1:], strict=False)])
        self.mean = nnx.Linear(hidden[-1], latent_dim, rngs=rngs)
        self.logvar = nnx.Linear(hidden[-1], latent_dim, rngs=rngs)
        widths = (latent_dim, *reversed(hidden))
        self.decoder = nnx.List([block(a, b) for a, b in zip(widths[:-1], widths[1:], strict=False)])
        self.head = nnx.Linear(hidden[0], sum(cards), rngs=rngs)
        self.latent_dim = latent_dim
        self.rngs = rngs

    @classmethod
    def from_frame(cls, df: pd.DataFrame, spec: Any = None, *, n_bins: int = 10, **kwargs: Any) -> TabularVAE:
        """Fit a ``TablePreprocessor`` on ``df`` (and ``spec``) and build the model on it.

        The parameters are initialised in one jitted call (one compile, which the persistent
        compilation cache can keep) instead of one eager op per array.
        """
        preprocessor = TablePreprocessor.fit(df, spec, n_bins=n_bins)
        rngs = kwargs.pop("rngs")
        frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items()))
        return _build(cls, preprocessor, frozen, rngs)

    def encode_frame(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """A table as the model's batch format: ``{"codes": int32[N, F]}``."""
        return {"codes": self.preprocessor.encode(df)}

    # -- the network ---------------------------------------------------------------------
    def _logits(self, h: jax.Array) -> jax.Array:
        """Per-feature logits ``[N, F, C_max]`` (padding classes at -1e9) from decoder features."""
        flat = self.head(h)
        c_max = max(self.cardinalities)
        index = np.zeros((len(self.cardinalities), c_max), np.int32)
        valid = np.zeros_like(index, dtype=bool)
        for f, (o, c) in enumerate(zip(self.offsets, self.cardinalities, strict=False)):
            index[f, :c], valid[f, :c] = np.arange(o, o + c), True
        return jnp.where(jnp.asarray(valid), flat[:, jnp.asarray(index)], jnp.asarray(_NEG, flat.dtype))

    def _decode(self, z: jax.Array, mask: jax.Array | None) -> jax.Array:
        h = z
        for layer in self.decoder:
            h = layer(h, mask)
        return self._logits(h)

    def __call__(self, batch: dict[str, jax.Array], *, mask: jax.Array | None = None) -> dict[str, jax.Array]:
        """The masked beta-VAE loss of ``batch["codes"]`` (``int32[B, F]``)."""
        codes = jnp.asarray(batch["codes"], jnp.int32)
        n = codes.shape[0]
        mask = jnp.ones((n,), bool) if mask is None else mask
        x = self.embedding(codes + jnp.asarray(self.offsets, jnp.int32)[None, :]).reshape(n, -1)
        for layer in self.encoder:
            x = layer(x, mask)
        mu, logvar = self.mean(x), self.logvar(x)
        # padding rows (copies of row 0 past BatchNorm's valid-row statistics) can reach huge
        # log-variances: exp overflows and 0 * inf poisons the masked loss, so zero them
        mu, logvar = jnp.where(mask[:, None], mu, 0), jnp.where(mask[:, None], logvar, 0)
        z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(self.rngs.noise(), mu.shape, mu.dtype)
        logp = jax.nn.log_softmax(self._decode(z, mask), axis=-1)
        ce = -jnp.take_along_axis(logp, codes[..., None], axis=-1)[..., 0].sum(-1)  # [B]
        kl = 0.5 * jnp.sum(mu**2 + jnp.exp(logvar) - logvar - 1.0, axis=-1)  # [B]
        w = mask.astype(ce.dtype)
        count = jnp.maximum(w.sum(), 1.0)
        reconstruction, kl = (w * ce).sum() / count, (w * kl).sum() / count
        return {"loss": reconstruction + self.beta * kl, "reconstruction": reconstruction, "kl": kl}

    # -- generation --------------------------------------------------------------------------
    def _draws(self, n_records: int, key: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        r"""Every random number of generating ``n_records`` rows, from ONE uniform draw :math:`u`.

        .. math:: z = \sqrt2\,\mathrm{erf}^{-1}(2u - 1) \sim \mathcal N(0, 1),\qquad
                  g = -\log(-\log u) \sim \mathrm{Gumbel}(0, 1)

        (``jax.random.normal`` and ``jax.random.gumbel``'s transforms), and :math:`u` itself for
        the positions within the continuous bins. One threefry call instead of one per draw:
        XLA compiles each call site on its own (about half a second each on a CPU), so the
        validation program compiles seconds sooner.

        Returns:
          ``z`` ``float32[N, latent]``, ``gumbel`` ``float32[N, F, C_max]`` and ``positions``
          ``float32[N, Dc]`` (one per continuous column).
        """
        n, f, c = n_records, len(self.cardinalities), max(self.cardinalities)
        d, latent = len(self.preprocessor.cts_features), self.latent_dim
        u = jax.random.uniform(key, (n, latent + f * c + d), jnp.float32)
        lowest = jnp.nextafter(jnp.float32(-1), jnp.float32(0))  # erf_inv(-1) = -inf
        z = jnp.sqrt(jnp.float32(2)) * jax.lax.erf_inv(jnp.maximum(2 * u[:, :latent] - 1, lowest))
        tiny = jnp.asarray(jnp.finfo(jnp.float32).tiny, jnp.float32)
        gumbel = -jnp.log(-jnp.log(jnp.maximum(u[:, latent : latent + f * c], tiny)))
        return z, gumbel.reshape(n, f, c), u[:, latent + f * c :]

    def _sample(
        self, n_records: int, key: jax.Array, temperature: float | jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        """Codes ``int32[N, F]`` (Gumbel-max: ``argmax(logits / T + g)`` is a draw from
        ``softmax(logits / T)``) and the positions of the continuous values within their bins."""
        z, gumbel, positions = self._draws(n_records, key)
        codes = jnp.argmax(self._decode(z, None) / temperature + gumbel, axis=-1)
        return codes.astype(jnp.int32), positions

    def sample_codes(self, n_records: int, key: jax.Array, temperature: float | jax.Array = 1.0) -> jax.Array:
        """Codes ``int32[n_records, F]`` sampled from the prior (jittable; call in eval mode)."""
        return self._sample(n_records, key, temperature)[0]

    def sample(self, n_records: int, *, key: jax.Array, temperature: float | jax.Array = 1.0) -> Any:
        """``n_records`` synthetic rows as an ``artifact_jax.encoding.EncodedTable`` (jittable).

        Continuous columns in ``cts`` and category codes in ``cat``, in the spec's order
        and vocabulary, so a plan can score them without going through pandas.
        """
        from artifact_jax.encoding import EncodedTable

        codes, positions = self._sample(n_records, key, temperature)
        cts, cat = self.preprocessor.decode_arrays(codes, positions=positions)
        return EncodedTable(cts, jnp.zeros(cts.shape, bool), cat, jnp.ones((n_records,), bool))

    def to_frame(self, table: Any) -> pd.DataFrame:
        """An ``EncodedTable`` from ``sample`` (device or numpy arrays) as a DataFrame in the
        training table's columns and dtypes (the host step of ``generate``)."""
        return self.preprocessor.to_frame(np.asarray(table.cts), np.asarray(table.cat))

    def generate(self, n_records: int, *, rngs: nnx.Rngs, temperature: float = 1.0) -> pd.DataFrame:
        """``n_records`` synthetic rows as a DataFrame in the training table's columns and dtypes.

        Sampling runs as one jitted device call in eval mode; only the final conversion to
        pandas runs on the host.

        Args:
          n_records: rows to generate.
          rngs: randomness; its default stream is drawn once.
          temperature: softmax temperature of the categorical sampling (``> 0``).
        """
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}.")
        graph, state = nnx.split(nnx.with_attributes(self, raise_if_not_found=False, **_EVAL))
        cts, cat = _generate_arrays(graph, state, int(n_records), rngs(), jnp.float32(temperature))
        return self.preprocessor.to_frame(np.asarray(cts), np.asarray(cat))


@functools.partial(nnx.jit, static_argnums=(0, 1, 2))
def _construct(cls: type, preprocessor: TablePreprocessor, kwargs: tuple, rngs: nnx.Rngs) -> TabularVAE:
    return cls(preprocessor, rngs=rngs, **dict(kwargs))


def _build(cls: type, preprocessor: TablePreprocessor, kwargs: tuple, rngs: nnx.Rngs) -> TabularVAE:
    """``cls(preprocessor, rngs=rngs, **kwargs)`` as one jitted call, compiled once per model and
    ``rngs`` structure. On the CPU with ``plans.QUICK_COMPILE``: the init runs once, and its ~12
    random draws compile in ~1.0 CPU s unoptimised instead of ~2.2 (what a first training run waits
    for before its first epoch)."""
    key = (cls, preprocessor, kwargs, nnx.graphdef(rngs))
    if key not in _BUILT:
        from artifact_jax.plans import QUICK_COMPILE

        options = dict(QUICK_COMPILE) if jax.default_backend() == "cpu" else None
        _BUILT[key] = _construct.lower(cls, preprocessor, kwargs, rngs).compile(options)
    return _BUILT[key](rngs)  # static arguments are part of the executable


_BUILT: dict[Any, Any] = {}


@functools.partial(jax.jit, static_argnums=(0, 2))
def _generate_arrays(graph: Any, state: Any, n_records: int, key: jax.Array, temperature: jax.Array):
    model = nnx.merge(graph, state, copy=True)
    codes, positions = model._sample(n_records, key, temperature)
    return model.preprocessor.decode_arrays(codes, positions=positions)
