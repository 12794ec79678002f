"""The photo recipes' defaults, as plain constants: the apps define their flags from them
without loading TensorFlow (``--help`` stays instant).

Layer names are InceptionV1's; other models name their own layers.
"""

# The rendered image's longer side in pixels (the photo's aspect ratio is kept): the
# resolution InceptionV1 was trained at.
DEFAULT_SIZE = 224
DEFAULT_STEPS = 512  # the article's usual number of steps
DEFAULT_LEARNING_RATE = 0.05  # Adam, as in Lucid

# Feature inversion: how far a layer's activations pin an image down.
DEFAULT_INVERSION_LAYER = "mixed4a"
# The power of cos(a, r) that weights the dot product: how much direction counts over
# magnitude. At 4 the mixed4a activations of an inversion point the photo's way (a cosine of
# 0.89-0.92 after 128 steps on sample photos, against 0.78-0.84 at 1); Lucid's default, 0,
# lets the image grow activations beyond the photo's instead.
DEFAULT_INVERSION_COSSIM_POW = 4.0
# Weight of Lucid's per-step blur (objectives.blur_input_each_step): a gentle pull toward
# smooth images against the high frequencies an inversion from noise otherwise keeps.
DEFAULT_INVERSION_BLUR = 0.0

# Caricature: start at the photo and exaggerate what the layers see.
DEFAULT_CARICATURE_LAYERS = ("mixed4a", "mixed4d")
DEFAULT_CARICATURE_COSSIM_POW = 1.0
DEFAULT_CARICATURE_STEPS = 256

# Style transfer (Gatys et al.): the style's Gram matrices and the content's activations.
# Both losses are relative (1 per layer at the start, roughly); at 3 the style loss of a
# sample photo falls about 6-7x in 512 steps while the content's activations keep a cosine
# of about 0.65 with the photo's (1: only the colors move; 5: the content fades toward 0.5).
DEFAULT_STYLE_WEIGHT = 3.0
DEFAULT_CONTENT_WEIGHT = 1.0
DEFAULT_STYLE_STEPS = 512
STYLE_STARTS = ("content", "noise")  # start at the content photo (the default) or at noise

# DeepDream on a photo, octave by octave from small to the photo's own size.
DEFAULT_DEEPDREAM_LAYER = "mixed4c"
DEFAULT_OCTAVES = 4
DEFAULT_OCTAVE_SCALE = 1.4  # each octave is this much larger than the one before
# 16 steps per octave already grow the layer's mean square several times over (x8 on a
# sample photo at mixed4c) while the photo stays recognizable; more steps repaint it.
DEFAULT_STEPS_PER_OCTAVE = 16
# Pixels, not Fourier coefficients: a pixel update is local, so the dream grows into the
# photo's details; a Fourier update spreads over the whole image and repaints the photo.
DEFAULT_DEEPDREAM_PARAM = "pixel"

# Feature accentuation (Hamblin et al., 2024): the objective minus a weight times a pull
# toward the photo: the distance of the activations at an intermediate layer (as the
# authors' own code does; its example pulls at mixed3a), so that the pixels may change but
# not what the early layers see; or of the pixels themselves (PULL_PIXELS).
PULL_PIXELS = "input"  # lucid2.optvis.objectives.INPUT: the untransformed images
# With the weight below, mixed3b keeps sample photos recognizable while a mixed4a or mixed4b
# channel grows 5-50x in 128 steps; at mixed3a the same weight lets the channel repaint them.
DEFAULT_PULL_LAYER = "mixed3b"
# In the objective's units: a channel's mean activation on a photo is of the order of tens.
DEFAULT_PULL = 1000.0
DEFAULT_ACCENTUATION_STEPS = 256
