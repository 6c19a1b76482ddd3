package jllm.estimate;

/**
 * The model a plan is about: a full {@link ModelShape}, or only a parameter count ({@code --params}), or both
 * (a shape whose total is overridden by a published count); for a GGUF file also the weights as stored.
 *
 * @param name         display name
 * @param shape        the shape, or null when only {@code --params} is known
 * @param params       total parameters used for weights and model states
 * @param activeParams parameters a token uses (differs from {@code params} for mixtures of experts)
 * @param stored       the weights as a model file stores them (GGUF), or null
 */
public record ModelSpec(String name, ModelShape shape, long params, long activeParams, StoredWeights stored) {

    /**
     * Weights as a file stores them, each tensor in its own type.
     *
     * @param bytes         bytes of all tensor data (each tensor's {@code Sizes.weightBytes(type, elements)})
     * @param largestBytes  bytes of the largest tensor
     * @param types         a summary such as {@code Q4_K x 193, F32 x 65}
     */
    public record StoredWeights(long bytes, long largestBytes, String types) {}

    public ModelSpec {
        if (params <= 0) throw new IllegalArgumentException("parameter count must be positive, got " + params);
        if (activeParams <= 0 || activeParams > params) {
            throw new IllegalArgumentException("active parameters " + activeParams + " must be in 1.." + params);
        }
    }

    /** A model known by its shape; counts come from the shape's tensors. */
    public static ModelSpec of(ModelShape shape) {
        return new ModelSpec(shape.name(), shape, shape.params(), shape.activeParams(), null);
    }

    /** A model known only by its parameter count. */
    public static ModelSpec ofParams(long params) {
        return new ModelSpec(Units.count(params) + " parameters", null, params, params, null);
    }

    /** The same model with its parameter count replaced by a given one (a published total). */
    public ModelSpec withParams(long given) {
        long active = shape == null ? given : Math.max(1, Math.round((double) shape.activeParams() / shape.params() * given));
        return new ModelSpec(name, shape, given, Math.min(active, given), null);
    }

    /** True when the shape is known. */
    public boolean hasShape() {
        return shape != null;
    }

    /** True when the parameter count was given instead of computed from the shape. */
    public boolean paramsOverridden() {
        return shape != null && params != shape.params();
    }

    /** The shape, or an exception saying what needs it and how to give it. */
    public ModelShape requireShape(String what) {
        if (shape == null) {
            throw new IllegalArgumentException(what + " needs the model's shape: give -m PRESET, -m config.json, "
                    + "-m FILE.gguf, or --layers --hidden --heads --ffn --vocab");
        }
        return shape;
    }
}
