"""Files coming into and going out of client databases (today: the uploads waiting to be imported)."""
