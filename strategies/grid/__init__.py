"""Grid strategy: post-only entries inside the touch, a reduce-only take-profit per fill."""
