"""The one object the front ends talk to: ask, search, build, add, remove, stats.

(Interface fixed first so the bot can be written against it; bodies land with the core.)
"""
