"""The boundary room: keeping the read models in step with their canonical files."""
