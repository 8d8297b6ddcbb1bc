"""People as the rest of posed sees them: the estimator's poses, with phantoms (a chair, a coat) dropped."""
