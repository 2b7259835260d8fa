@load ./vastflow
