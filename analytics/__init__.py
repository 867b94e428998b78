"""Trading analytics shared by backtests and live bots: PnL attribution, returns, risk and
trade statistics computed from fills, funding payments and equity points (issue 18)."""
