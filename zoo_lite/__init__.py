"""The part of the zoo that runs without Keras or TensorFlow: image files and atomic
writes (`zoo_lite.image_io`), tile geometry (`zoo_lite.tiles`), hole grouping
(`zoo_lite.hole_tiles`), and a preset's shipped TFLite tiles run with ai-edge-litert
(`zoo_lite.tflite_tiles`).

`zoo` imports Keras (and so the backend, TensorFlow's taking about 6 s); importing
anything in `zoo` runs that first. These modules import numpy, scipy, Pillow and
ai-edge-litert only, so `zoo predict` can fill a large photo's holes from a preset's
TFLite tiles in a process that never imports Keras. `zoo` builds on them (imports point
down: zoo_lite, then zoo core, training, export, the command line).
"""
