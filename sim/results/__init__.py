"""What a run produces: the run result, metrics, analytic bounds, and the files and reports
written from them.
"""
