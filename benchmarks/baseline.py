"""The CBAM most users copy: written by hand in plain Keras 3 layers.

Same block as specs/cbam.yaml (the paper's CBAM: bias-free shared MLP, spatial pools
[avg, max], 7x7 conv without bias, sequential), so both take the same weights.
"""

import keras
from keras import ops


class HandWrittenCBAM(keras.layers.Layer):
    def __init__(self, reduction=16, kernel_size=7, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction
        self.kernel_size = kernel_size
        self.avg_pool = keras.layers.GlobalAveragePooling2D(keepdims=True)
        self.max_pool = keras.layers.GlobalMaxPooling2D(keepdims=True)
        self.concat = keras.layers.Concatenate(axis=-1)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.mlp_hidden = keras.layers.Dense(
            max(channels // self.reduction, 1), activation="relu", use_bias=False
        )
        self.mlp_out = keras.layers.Dense(channels, use_bias=False)
        self.conv = keras.layers.Conv2D(
            1, self.kernel_size, padding="same", activation="sigmoid", use_bias=False
        )
        self.mlp_hidden.build((None, 1, 1, channels))
        self.mlp_out.build((None, 1, 1, max(channels // self.reduction, 1)))
        self.conv.build((None, None, None, 2))

    def call(self, x):
        avg = self.mlp_out(self.mlp_hidden(self.avg_pool(x)))
        mx = self.mlp_out(self.mlp_hidden(self.max_pool(x)))
        x = x * ops.sigmoid(avg + mx)
        pooled = self.concat(
            [ops.mean(x, axis=-1, keepdims=True), ops.max(x, axis=-1, keepdims=True)]
        )
        return x * self.conv(pooled)

    def copy_weights_from(self, generated):
        """Take the weights of a layer generated from specs/cbam.yaml."""
        named = {v.path.split("/", 1)[1]: v for v in generated.weights}
        self.mlp_hidden.kernel.assign(named["channel_hidden/kernel"])
        self.mlp_out.kernel.assign(named["channel_out/kernel"])
        self.conv.kernel.assign(named["spatial_conv/kernel"])


class HandWrittenWindowBlock(keras.layers.Layer):
    """Spatial attention over windows, as a user writes it with Keras's own pooling
    layer: pool each channel over its 3x3 neighbourhood (stride 1, 'same'; padding
    cells excluded), a 7x7 conv to one map, sigmoid, multiply."""

    def __init__(self, pooling=keras.layers.AveragePooling2D, window=3, **kwargs):
        super().__init__(**kwargs)
        self.pool = pooling(window, strides=1, padding="same")
        self.conv = keras.layers.Conv2D(1, 7, padding="same", activation="sigmoid")

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x, training=None):
        return x * self.conv(self.pool(x))
