"""The renderer: Session + stems -> processed stems, mix and master. It never decides."""
