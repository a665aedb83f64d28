"""Answers: re-ranking by sentence, the cited answer, stories and time frames, plain-text rendering."""
