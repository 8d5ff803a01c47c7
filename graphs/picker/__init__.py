"""The memory picker: type a few words, pick a memory. Used wherever a form needs a memory
(graph views' memory, path From/To, Add relationship's Other memory) instead of a raw id."""
