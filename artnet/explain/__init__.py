"""Why the model said what it said: CAM methods over one `BaseCAM` (`cams`), maps drawn over the painting
(`overlay`), how faithful the maps are (`faithfulness`, summed up by `faithfulness_report`), and the
training paintings closest to a painting (`neighbours`).

May import: the basics, `data` and `model`.
"""
