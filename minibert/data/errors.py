"""The error every data source raises for input it cannot use."""


class DataSourceError(ValueError):
    """A data set could not be loaded; the message is one line naming the source and the fix."""
