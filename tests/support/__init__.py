"""What tests in several folders share: real servers and sites, memorygraph, sample graphs, the
project's paths."""
