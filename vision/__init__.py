"""Framework-free person understanding shared by the local engine and the upload crop.

`pose` wraps the MediaPipe pose model that ships inside its wheel (keypoints and a person mask, one process-wide
model behind a lock); `crop` finds the person-aware 4:5 crop of a customer photo; `synthetic` draws the exact
mannequin and flat-lay garments the engine's property tests, benches and docs gallery are built on. Nothing here
imports Django or any other package of the project.
"""
